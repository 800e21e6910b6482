printf '# app settings\n[server]\nhost = 0.0.0.0\nport = 80\n\n[database]\nport = 5432\nname = shop\n' > app.conf
