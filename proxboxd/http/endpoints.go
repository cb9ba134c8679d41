package http

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/connector"
)

// Bodies use pointers so PUT can tell "absent" from "empty"; unknown fields
// (newer plugins send timeout, access_methods, …) are ignored.

type netboxEndpointBody struct {
	Name         *string `json:"name"`
	IPAddress    *string `json:"ip_address"`
	Domain       *string `json:"domain"`
	Port         *int    `json:"port"`
	TokenVersion *string `json:"token_version"`
	TokenKey     *string `json:"token_key"`
	Token        *string `json:"token"`
	VerifySSL    *bool   `json:"verify_ssl"`
}

type proxmoxEndpointBody struct {
	Name       *string `json:"name"`
	IPAddress  *string `json:"ip_address"`
	Domain     *string `json:"domain"`
	Port       *int    `json:"port"`
	Username   *string `json:"username"`
	Password   *string `json:"password"`
	VerifySSL  *bool   `json:"verify_ssl"`
	TokenName  *string `json:"token_name"`
	TokenValue *string `json:"token_value"`
}

// public shapes: secrets are never returned.

type netboxEndpointOut struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	IPAddress    string `json:"ip_address"`
	Domain       string `json:"domain"`
	Port         int    `json:"port"`
	TokenVersion string `json:"token_version"`
	VerifySSL    bool   `json:"verify_ssl"`
	URL          string `json:"url"`
	HasToken     bool   `json:"has_token"`
}

type proxmoxEndpointOut struct {
	ID         int     `json:"id"`
	Name       string  `json:"name"`
	IPAddress  string  `json:"ip_address"`
	Domain     *string `json:"domain"`
	Port       int     `json:"port"`
	Username   string  `json:"username"`
	VerifySSL  bool    `json:"verify_ssl"`
	AuthMethod string  `json:"auth_method"` // "token" or "password"
}

func netboxOut(e proxbox.NetBoxEndpoint) netboxEndpointOut {
	return netboxEndpointOut{ID: e.ID, Name: e.Name, IPAddress: e.IPAddress, Domain: e.Domain, Port: e.Port,
		TokenVersion: e.TokenVersion, VerifySSL: e.VerifySSL, URL: connector.NetBoxURL(e), HasToken: e.Token != ""}
}

func proxmoxOut(e proxbox.ProxmoxEndpoint) proxmoxEndpointOut {
	o := proxmoxEndpointOut{ID: e.ID, Name: e.Name, IPAddress: e.IPAddress, Port: e.Port, Username: e.Username, VerifySSL: e.VerifySSL, AuthMethod: "password"}
	if e.Domain != "" {
		d := e.Domain
		o.Domain = &d
	}
	if e.TokenName != "" && e.TokenValue != "" {
		o.AuthMethod = "token"
	}
	return o
}

var domainRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,253})?$`)

func validHost(ipField, domain string) string {
	if domain != "" && (!domainRe.MatchString(domain) || strings.Contains(domain, "..")) {
		return "domain must be a host name"
	}
	if ipField != "" {
		if _, err := netip.ParseAddr(connector.HostOf(ipField)); err != nil {
			if _, err := netip.ParsePrefix(strings.TrimSpace(ipField)); err != nil {
				return "ip_address must be an IP address"
			}
		}
	}
	if domain == "" && ipField == "" {
		return "an ip_address or a domain is required"
	}
	return ""
}

func (s *Server) policy(ctx context.Context) connector.Policy {
	st := s.d.Settings.Get(ctx)
	return connector.Policy{Enabled: st.SSRFProtectionEnabled, AllowPrivate: st.AllowPrivateIPs,
		AllowLinkLocal: s.cfg.AllowLinkLocal, Allowed: st.AllowedRanges(), Blocked: st.BlockedRanges()}
}

// Policy is the effective SSRF policy (the connector uses it when dialling).
func (s *Server) Policy(ctx context.Context) connector.Policy { return s.policy(ctx) }

func (s *Server) checkSSRF(ctx context.Context, ipField, domain string) string {
	pol := s.policy(ctx)
	for _, h := range []string{domain, connector.HostOf(ipField)} {
		if h == "" {
			continue
		}
		if err := pol.CheckHost(ctx, h); err != nil {
			return "endpoint address refused: " + err.Error()
		}
	}
	return ""
}

func str(p *string, def string) string {
	if p == nil {
		return def
	}
	return strings.TrimSpace(*p)
}

// ---- /netbox/endpoint ----

// listOut answers a store listing converted to its public (secret-free) form.
func listOut[E, O any](c echo.Context, list func(context.Context) ([]E, error), conv func(E) O) error {
	eps, err := list(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]O, 0, len(eps))
	for _, e := range eps {
		out = append(out, conv(e))
	}
	return c.JSON(http.StatusOK, out)
}

// getOut answers one stored row by the path's id in its public form, 404 when absent.
func getOut[E, O any](c echo.Context, get func(context.Context, int) (E, error), conv func(E) O, notFound string) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	e, err := get(c.Request().Context(), id)
	if errors.Is(err, proxbox.ErrNotFound) {
		return jsonError(c, http.StatusNotFound, notFound)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv(e))
}

func (s *Server) listNetBox(c echo.Context) error {
	return listOut(c, s.d.Store.ListNetBoxEndpoints, netboxOut)
}

func (s *Server) getNetBox(c echo.Context) error {
	return getOut(c, s.d.Store.GetNetBoxEndpoint, netboxOut, "NetBox endpoint not found")
}

func mergeNetBox(e *proxbox.NetBoxEndpoint, b netboxEndpointBody) string {
	e.Name = str(b.Name, e.Name)
	e.IPAddress = str(b.IPAddress, e.IPAddress)
	e.Domain = str(b.Domain, e.Domain)
	if b.Port != nil {
		e.Port = *b.Port
	}
	e.TokenVersion = strings.ToLower(str(b.TokenVersion, e.TokenVersion))
	if b.Token != nil {
		e.Token = *b.Token
	}
	if b.TokenKey != nil {
		e.TokenKey = *b.TokenKey
	}
	if b.VerifySSL != nil {
		e.VerifySSL = *b.VerifySSL
	}
	switch {
	case e.Name == "" || len(e.Name) > 255:
		return "name must be 1-255 characters"
	case e.Port < 1 || e.Port > 65535:
		return "port must be 1-65535"
	case e.TokenVersion != "v1" && e.TokenVersion != "v2":
		return "token_version must be v1 or v2"
	case len(e.Token) > 1000 || len(e.TokenKey) > 1000:
		return "token too long"
	case strings.ContainsAny(e.Token+e.TokenKey, "\r\n"):
		return "token must not contain line breaks"
	case e.TokenVersion == "v1" && e.Token == "":
		return "token is required for NetBox API token v1"
	case e.TokenVersion == "v2" && (e.Token == "" || e.TokenKey == ""):
		return "token_key and token (secret) must both be set for NetBox API token v2"
	}
	if e.TokenVersion == "v1" {
		e.TokenKey = ""
	}
	return validHost(e.IPAddress, e.Domain)
}

func (s *Server) createNetBox(c echo.Context) error {
	var b netboxEndpointBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	e := proxbox.NetBoxEndpoint{Name: "NetBox Endpoint", IPAddress: "", Port: 443, TokenVersion: "v1", VerifySSL: true}
	if msg := mergeNetBox(&e, b); msg != "" {
		return jsonError(c, http.StatusBadRequest, msg)
	}
	ctx := c.Request().Context()
	if msg := s.checkSSRF(ctx, e.IPAddress, e.Domain); msg != "" {
		return jsonError(c, http.StatusBadRequest, msg)
	}
	// Upsert: with a row already present, a POST updates it instead of
	// failing, so the plugin's N1-N3 sequence cannot wedge on a race.
	eps, err := s.d.Store.ListNetBoxEndpoints(ctx)
	if err != nil {
		return err
	}
	if len(eps) > 0 {
		e.ID = eps[0].ID
		if err := s.d.Store.UpdateNetBoxEndpoint(ctx, e); err != nil {
			return err
		}
		s.afterNetBoxChange()
		return c.JSON(http.StatusOK, netboxOut(e))
	}
	e, err = s.d.Store.CreateNetBoxEndpoint(ctx, e)
	if err != nil {
		return err
	}
	s.afterNetBoxChange()
	s.log.Info("NetBox endpoint stored", "id", e.ID, "url", connector.NetBoxURL(e))
	return c.JSON(http.StatusOK, netboxOut(e))
}

func (s *Server) afterNetBoxChange() {
	s.d.Settings.Invalidate()
}

func (s *Server) updateNetBox(c echo.Context) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	var b netboxEndpointBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	e, err := s.d.Store.GetNetBoxEndpoint(ctx, id)
	if errors.Is(err, proxbox.ErrNotFound) {
		return jsonError(c, http.StatusNotFound, "NetBox endpoint not found")
	}
	if err != nil {
		return err
	}
	old := e
	if msg := mergeNetBox(&e, b); msg != "" {
		return jsonError(c, http.StatusBadRequest, msg)
	}
	if e == old {
		return c.JSON(http.StatusOK, netboxOut(e))
	}
	if e.IPAddress != old.IPAddress || e.Domain != old.Domain {
		if msg := s.checkSSRF(ctx, e.IPAddress, e.Domain); msg != "" {
			return jsonError(c, http.StatusBadRequest, msg)
		}
	}
	if err := s.d.Store.UpdateNetBoxEndpoint(ctx, e); err != nil {
		return err
	}
	s.afterNetBoxChange()
	return c.JSON(http.StatusOK, netboxOut(e))
}

func (s *Server) deleteNetBox(c echo.Context) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	if err := s.d.Store.DeleteNetBoxEndpoint(c.Request().Context(), id); errors.Is(err, proxbox.ErrNotFound) {
		return jsonError(c, http.StatusNotFound, "NetBox endpoint not found")
	} else if err != nil {
		return err
	}
	s.afterNetBoxChange()
	return c.JSON(http.StatusOK, map[string]string{"message": "NetBox Endpoint deleted."})
}

// ---- /proxmox/endpoints ----

func (s *Server) listProxmoxEndpoints(c echo.Context) error {
	return listOut(c, s.d.Store.ListProxmoxEndpoints, proxmoxOut)
}

func (s *Server) getProxmoxEndpoint(c echo.Context) error {
	return getOut(c, s.d.Store.GetProxmoxEndpoint, proxmoxOut, "Proxmox endpoint not found")
}

func mergeProxmox(e *proxbox.ProxmoxEndpoint, b proxmoxEndpointBody) string {
	e.Name = str(b.Name, e.Name)
	e.IPAddress = str(b.IPAddress, e.IPAddress)
	if b.Domain != nil {
		e.Domain = strings.TrimSpace(*b.Domain)
	}
	if b.Port != nil {
		e.Port = *b.Port
	}
	e.Username = str(b.Username, e.Username)
	if b.Password != nil {
		e.Password = *b.Password
	}
	if b.TokenName != nil {
		e.TokenName = strings.TrimSpace(*b.TokenName)
	}
	if b.TokenValue != nil {
		e.TokenValue = *b.TokenValue
	}
	if b.VerifySSL != nil {
		e.VerifySSL = *b.VerifySSL
	}
	if e.Username == "" {
		e.Username = "root@pam"
	}
	switch {
	case e.Name == "" || len(e.Name) > 255:
		return "name must be 1-255 characters"
	case e.Port < 1 || e.Port > 65535:
		return "port must be 1-65535"
	case len(e.Username) > 255 || len(e.Password) > 1000 || len(e.TokenName) > 255 || len(e.TokenValue) > 1000:
		return "field too long"
	case strings.ContainsAny(e.Username+e.TokenName+e.TokenValue, "\r\n="):
		return "username and token fields must not contain line breaks or '='"
	case e.Password == "" && (e.TokenName == "" || e.TokenValue == ""):
		return "a password or both token_name and token_value are required"
	}
	return validHost(e.IPAddress, e.Domain)
}

// createProxmoxEndpoint upserts by name (the plugin's "<name> (nb:<pk>)"):
// an existing row with the same name, or with the same "(nb:<pk>)" suffix
// (a rename in NetBox), is updated instead of duplicated.
func (s *Server) createProxmoxEndpoint(c echo.Context) error {
	var b proxmoxEndpointBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	e := proxbox.ProxmoxEndpoint{Name: "Proxmox Endpoint", Port: 8006, Username: "root@pam"}
	eps, err := s.d.Store.ListProxmoxEndpoints(ctx)
	if err != nil {
		return err
	}
	name := str(b.Name, e.Name)
	var existing *proxbox.ProxmoxEndpoint
	for i := range eps {
		if eps[i].Name == name {
			existing = &eps[i]
			break
		}
	}
	if existing == nil {
		if pk, ok := connector.PluginPK(name); ok {
			for i := range eps {
				if p2, ok := connector.PluginPK(eps[i].Name); ok && p2 == pk {
					existing = &eps[i]
					break
				}
			}
		}
	}
	if existing != nil {
		return s.updateProxmoxRow(c, *existing, b)
	}
	if msg := mergeProxmox(&e, b); msg != "" {
		return jsonError(c, http.StatusBadRequest, msg)
	}
	if msg := s.checkSSRF(ctx, e.IPAddress, e.Domain); msg != "" {
		return jsonError(c, http.StatusBadRequest, msg)
	}
	e, err = s.d.Store.CreateProxmoxEndpoint(ctx, e)
	if errors.Is(err, proxbox.ErrConflict) {
		return jsonError(c, http.StatusConflict, "Proxmox endpoint name already exists")
	}
	if err != nil {
		return err
	}
	s.sess.clear()
	s.log.Info("Proxmox endpoint stored", "id", e.ID, "name", e.Name)
	return c.JSON(http.StatusOK, proxmoxOut(e))
}

func (s *Server) updateProxmoxRow(c echo.Context, e proxbox.ProxmoxEndpoint, b proxmoxEndpointBody) error {
	ctx := c.Request().Context()
	old := e
	if msg := mergeProxmox(&e, b); msg != "" {
		return jsonError(c, http.StatusBadRequest, msg)
	}
	if e == old { // the hot path: nothing changed, no write
		return c.JSON(http.StatusOK, proxmoxOut(e))
	}
	if e.IPAddress != old.IPAddress || e.Domain != old.Domain {
		if msg := s.checkSSRF(ctx, e.IPAddress, e.Domain); msg != "" {
			return jsonError(c, http.StatusBadRequest, msg)
		}
	}
	_, err := s.d.Store.UpdateProxmoxEndpoint(ctx, e)
	if errors.Is(err, proxbox.ErrConflict) {
		return jsonError(c, http.StatusConflict, "Proxmox endpoint name already exists")
	}
	if err != nil {
		return err
	}
	s.sess.clear()
	return c.JSON(http.StatusOK, proxmoxOut(e))
}

func (s *Server) updateProxmoxEndpoint(c echo.Context) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	var b proxmoxEndpointBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	e, err := s.d.Store.GetProxmoxEndpoint(c.Request().Context(), id)
	if errors.Is(err, proxbox.ErrNotFound) {
		return jsonError(c, http.StatusNotFound, "Proxmox endpoint not found")
	}
	if err != nil {
		return err
	}
	return s.updateProxmoxRow(c, e, b)
}

func (s *Server) deleteProxmoxEndpoint(c echo.Context) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	if err := s.d.Store.DeleteProxmoxEndpoint(c.Request().Context(), id); errors.Is(err, proxbox.ErrNotFound) {
		return jsonError(c, http.StatusNotFound, "Proxmox endpoint not found")
	} else if err != nil {
		return err
	}
	s.sess.clear()
	return c.JSON(http.StatusOK, map[string]string{"message": "Proxmox endpoint deleted."})
}
