printf 'name,country\nluc,fr\naki,jp\nmia,nz\nzoe,fr\n' > people.csv
