module fraudknn/research

go 1.26.0

replace fraudknn => ../

require fraudknn v0.0.0

require golang.org/x/sys v0.49.0 // indirect
