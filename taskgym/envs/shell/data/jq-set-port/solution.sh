jq '.server.port = 8080 | .server.tls = true' config.json > /tmp/c.json && mv /tmp/c.json config.json
