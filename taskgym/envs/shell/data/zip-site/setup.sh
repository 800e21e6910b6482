mkdir -p site/css && echo i > site/index.html && echo c > site/css/a.css && echo l > site/access.log && echo e > site/css/error.log
