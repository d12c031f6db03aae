"""The REST API's views: they read through selectors, shape data with serializers and write through the
services. One module per resource."""
