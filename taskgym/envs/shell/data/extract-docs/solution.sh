mkdir -p docs && tar -xzf bundle.tar.gz -C docs --wildcards '*.md'
