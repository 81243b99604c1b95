"""HTTP routes, one module per concern; :func:`server_stub.app.create_app` includes them."""
