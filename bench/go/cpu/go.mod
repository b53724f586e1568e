module nabla.bench/cpu

go 1.21
