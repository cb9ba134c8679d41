// Package proxmoxsdk is a Proxmox VE API client: a generated model package
// (gen/pve) under a fluent navigator that mirrors the API path, with HTTPS,
// SSH, local pvesh and in-memory transports and token, ticket and TOTP auth.
package proxmoxsdk
