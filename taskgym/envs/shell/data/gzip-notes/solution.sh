gzip notes/*.txt
