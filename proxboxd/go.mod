module github.com/proxbox-go/proxbox/proxboxd

go 1.26.0

require (
	github.com/labstack/gommon v0.5.0 // indirect
	github.com/mattn/go-colorable v0.1.15 // indirect
	github.com/mattn/go-isatty v0.0.22 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasttemplate v1.2.2 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

require (
	github.com/gorilla/websocket v1.5.3
	github.com/labstack/echo/v4 v4.16.0
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/proxbox-go/proxbox/netboxsdk v0.0.0
	github.com/proxbox-go/proxbox/proxmoxsdk v0.0.0
)

replace (
	github.com/proxbox-go/proxbox/netboxsdk => ../netboxsdk
	github.com/proxbox-go/proxbox/proxmoxsdk => ../proxmoxsdk
)
