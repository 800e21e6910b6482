mkdir -p site/css site/pages/cache site/cache
echo index > site/index.html
echo css > site/css/main.css
echo about > site/pages/about.html
echo tmp > site/cache/page.tmp
echo tmp > site/pages/cache/x.tmp
