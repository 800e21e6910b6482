git config --global user.email agent@example.org && git config --global user.name Agent
mkdir repo && cd repo && git init -q -b main && echo 'Helo, world' > greet.txt && git add . && git commit -qm 'Add greeting'
