printf 'id,customer,amount\n1,acme,30\n2,globex,12\n3,acme,8\n4,initech,50\n' > orders.csv
