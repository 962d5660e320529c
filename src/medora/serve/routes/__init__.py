"""HTTP routes by area; each module is thin: parse, authorise, call the service, shape the
answer."""
