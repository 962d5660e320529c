"""The medora service: FastAPI app, database, auth, review queue and audit log.

Build the app with :func:`medora.serve.app.create_app`. Nothing is imported here so that the
``medora`` command, which registers the service's sub-commands, starts without loading FastAPI
and SQLAlchemy.
"""
