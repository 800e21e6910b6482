cd project && git init -q && git add -A && git -c user.name=Agent -c user.email=agent@example.org commit -qm 'Initial commit'; cd ..
