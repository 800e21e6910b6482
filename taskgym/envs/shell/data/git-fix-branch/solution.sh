cd repo && git checkout -q -b fix && sed -i 's/Helo/Hello/' greet.txt && git commit -qam 'Fix typo'; cd ..
