git -C repo log --format=%H -S TODO-42 | tail -1 > commit.txt
