mkdir Docs; echo R > Docs/README.md; echo G > Docs/Guide.PDF; echo T > "Docs/ToDo List.txt"
