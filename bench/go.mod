module github.com/proxbox-go/proxbox/bench

go 1.26.0

require (
	github.com/buger/goterm v1.0.4 // indirect
	github.com/cenkalti/backoff/v5 v5.0.3 // indirect
	github.com/diskfs/go-diskfs v1.9.3 // indirect
	github.com/djherbis/times v1.6.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/jinzhu/copier v0.3.4 // indirect
	github.com/magefile/mage v1.14.0 // indirect
	github.com/oapi-codegen/nullable v1.2.0 // indirect
	github.com/oapi-codegen/runtime v1.9.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

require (
	github.com/luthermonson/go-proxmox v0.8.2
	github.com/proxbox-go/proxbox/netboxsdk v0.0.0
	github.com/proxbox-go/proxbox/proxboxd v0.0.0
	github.com/proxbox-go/proxbox/proxmoxsdk v0.0.0
	github.com/stretchr/testify v1.12.1
)

replace (
	github.com/proxbox-go/proxbox/netboxsdk => ../netboxsdk
	github.com/proxbox-go/proxbox/proxboxd => ../proxboxd
	github.com/proxbox-go/proxbox/proxmoxsdk => ../proxmoxsdk
)
