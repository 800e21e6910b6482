set -e
[ "$(cat commit.txt)" = "$(git -C repo log --format=%H --grep='^step 3$')" ]
