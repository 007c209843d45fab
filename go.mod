module bunsan

go 1.26
