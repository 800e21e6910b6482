cat > sales.csv <<'CSV'
region,item,amount
north,apples,40
east,pears,12
north,plums,75
west,figs,7
east,kiwis,30
CSV
