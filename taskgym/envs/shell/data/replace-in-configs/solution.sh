find etc -name '*.conf' -exec sed -i 's/old\.example\.com/new.example.com/g' {} +
