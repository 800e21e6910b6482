mkdir -p project/src/app project/tests project/docs && touch project/src/app/__init__.py project/tests/__init__.py && echo '# Project' > project/docs/index.md
