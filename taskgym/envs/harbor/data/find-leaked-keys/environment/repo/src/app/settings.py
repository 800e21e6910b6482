KEY = "AKIAIOSFODNN7EXAMPLE"  # do not commit
