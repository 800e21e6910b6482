mkdir -p backup && tar -cf - --exclude=cache site | tar -xf - -C backup
