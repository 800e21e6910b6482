ln -sfn "releases/$(ls releases | sort -V | tail -1)" current
