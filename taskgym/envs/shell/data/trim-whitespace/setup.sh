mkdir -p src/pkg
printf 'def f():  \n    return 1\t\n\nx = 2 \n' > src/pkg/mod.py
printf 'print(1)   \n' > src/main.py
printf 'keep me   \n' > src/notes.txt
