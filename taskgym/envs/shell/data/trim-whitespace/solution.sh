find src -name '*.py' -exec sed -i 's/[[:blank:]]*$//' {} +
