"""``dosewise serve``: a local web app for live restoration at the microscope, and a JSON API.

:func:`dosewise.serve.app.create_app` builds the Starlette app; the command runs it with uvicorn.
"""
