"""HTTP routes, one module per concern; :func:`server_stub.api.app.create_app` includes them."""
