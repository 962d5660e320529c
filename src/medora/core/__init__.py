"""The contract every area fulfils, and nothing that belongs to one area: the task protocol,
the area plug-in and its registry, and the error bad input raises."""
