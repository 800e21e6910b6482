git config --global user.email agent@example.org && git config --global user.name Agent
mkdir repo && cd repo && git init -q -b main && echo 'Helo, world' > greet.txt && git add . && \
  GIT_AUTHOR_DATE='2024-01-01 12:00:00 +0000' GIT_COMMITTER_DATE='2024-01-01 12:00:00 +0000' git commit -qm 'Add greeting'
