"""The REST API's shared pieces: authentication, errors, pagination, idempotency, throttling, schema.

Each app's `api/` package holds its serializers, views and urls; its views only translate: an input
serializer checks the shape of the request, the view calls the same access helper and service as the
page, an output serializer renders the result.
"""
