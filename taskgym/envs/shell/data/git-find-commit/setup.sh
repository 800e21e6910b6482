git config --global user.email agent@example.org && git config --global user.name Agent
mkdir repo && cd repo && git init -q -b main
for i in 1 2 3 4 5; do
  echo "line $i" >> notes.txt
  [ $i = 3 ] && echo 'TODO-42 remove this' >> notes.txt
  GIT_AUTHOR_DATE="2024-01-0$i 12:00:00 +0000" GIT_COMMITTER_DATE="2024-01-0$i 12:00:00 +0000" git add . && \
    GIT_AUTHOR_DATE="2024-01-0$i 12:00:00 +0000" GIT_COMMITTER_DATE="2024-01-0$i 12:00:00 +0000" git commit -qm "step $i"
done
