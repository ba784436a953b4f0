module helm.mindburn.org/sdk/go

go 1.19
