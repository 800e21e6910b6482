printf 'The cat sat.\nThe dog, the cat!\nThe mat? the CAT sat\n' > text.txt
