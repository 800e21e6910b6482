printf '1\tkim\n2\tana\n3\tbo\n4\tcy\n' > users.tsv
printf '10\t2\t20\n11\t1\t100\n12\t2\t5\n13\t3\t7\n' > orders.tsv
