package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// profileFile is ~/.config/nbx/config.yaml (XDG_CONFIG_HOME honoured):
//
//	default: prod
//	profiles:
//	  prod:
//	    url: https://netbox.example.com
//	    token: nbt_KEY.SECRET          # v2, or a 40-character v1 token
//	  lab:
//	    url: http://127.0.0.1:8080
//	    token_env: LAB_NETBOX_TOKEN     # read the token from this variable
//	    insecure: true
type profileFile struct {
	Default  string              `yaml:"default"`
	Profiles map[string]*profile `yaml:"profiles"`
}

type profile struct {
	URL      string `yaml:"url"`
	Token    string `yaml:"token"`
	TokenEnv string `yaml:"token_env"`
	CAFile   string `yaml:"ca_file"`
	Insecure bool   `yaml:"insecure"`
}

// connection is the resolved configuration: flags > environment > profile.
type connection struct {
	url, token, caFile string
	insecure           bool
	mode, mockData     string
	profile            string // the profile used, if any
}

// defaultConfigPath is $XDG_CONFIG_HOME/nbx/config.yaml or ~/.config/nbx/config.yaml.
func defaultConfigPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "nbx", "config.yaml")
}

func loadProfiles(path string, explicit bool) (*profileFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !explicit {
			return &profileFile{}, nil
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	var pf profileFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&pf); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &pf, nil
}

// resolveConnection applies flags > environment > profile.
func (o *options) resolveConnection(fs *pflag.FlagSet) (*connection, error) {
	changed := func(n string) bool { f := fs.Lookup(n); return f != nil && f.Changed }
	pick := func(flagName, flagVal, envKey, profVal string) string {
		if changed(flagName) {
			return flagVal
		}
		if v := os.Getenv(envKey); v != "" {
			return v
		}
		return profVal
	}
	cfgPath, explicit := o.configFile, changed("config")
	if !explicit {
		if v := os.Getenv("NBX_CONFIG"); v != "" {
			cfgPath, explicit = v, true
		} else {
			cfgPath = defaultConfigPath()
		}
	}
	pf := &profileFile{}
	if cfgPath != "" {
		var err error
		if pf, err = loadProfiles(cfgPath, explicit); err != nil {
			return nil, err
		}
	}
	name := o.profile
	if !changed("profile") {
		name = os.Getenv("NBX_PROFILE")
	}
	if name == "" {
		name = pf.Default
	}
	if name == "" && len(pf.Profiles) == 1 {
		for k := range pf.Profiles {
			name = k
		}
	}
	prof := &profile{}
	if name != "" {
		p, ok := pf.Profiles[name]
		if !ok {
			names := make([]string, 0, len(pf.Profiles))
			for k := range pf.Profiles {
				names = append(names, k)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("no profile %q in %s (profiles: %s)", name, cfgPath, strings.Join(names, ", "))
		}
		prof = p
	}
	ptoken := prof.Token
	if prof.TokenEnv != "" {
		ptoken = os.Getenv(prof.TokenEnv)
	}
	c := &connection{
		url:      pick("url", o.url, "NETBOX_URL", prof.URL),
		token:    pick("token", o.token, "NETBOX_TOKEN", ptoken),
		caFile:   pick("ca-file", o.caFile, "NETBOX_CA_FILE", prof.CAFile),
		insecure: o.insecure || prof.Insecure,
		mode:     pick("mode", o.mode, netboxsdk.EnvAPIMode, ""),
		mockData: pick("mock-data", o.mockData, netboxsdk.EnvMockData, ""),
		profile:  name,
	}
	return c, nil
}

// client builds the netboxsdk client; missing URL or token is an error
// before any request.
func (c *connection) client() (*netboxsdk.Client, error) {
	switch strings.ToLower(c.mode) {
	case "", netboxsdk.ModeReal:
	case netboxsdk.ModeMock:
		return netboxsdk.New("", netboxsdk.WithMock(c.mockData), netboxsdk.WithUserAgent("nbx/"+netboxsdk.Version))
	default:
		return nil, usageErr("mode %q: want real or mock", c.mode)
	}
	if c.url == "" {
		return nil, errors.New("no NetBox URL: set NETBOX_URL, --url, or a profile in " + defaultConfigPath())
	}
	if c.token == "" {
		return nil, errors.New("no token: set NETBOX_TOKEN, --token, or a profile's token (v1 token or v2 nbt_KEY.SECRET)")
	}
	opts := []netboxsdk.Option{netboxsdk.WithAPIMode(netboxsdk.ModeReal), netboxsdk.WithToken(c.token), netboxsdk.WithUserAgent("nbx/" + netboxsdk.Version)}
	if c.caFile != "" || c.insecure {
		var pem []byte
		if c.caFile != "" {
			var err error
			if pem, err = os.ReadFile(c.caFile); err != nil {
				return nil, fmt.Errorf("--ca-file: %w", err)
			}
		}
		opts = append(opts, netboxsdk.WithTLS(pem, c.insecure))
	}
	return netboxsdk.New(c.url, opts...)
}
