"""Partner REST gateway: HTTP/JSON transcoded into gRPC from the `google.api.http` annotations."""
