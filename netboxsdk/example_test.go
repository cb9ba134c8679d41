package netboxsdk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

// exampleClient starts an in-memory NetBox; real code calls netboxsdk.New.
func exampleClient(opts ...netboxsdk.Option) (*netboxtest.Server, *netboxsdk.Client) {
	srv := netboxtest.NewServer()
	nb, err := srv.Client(opts...)
	if err != nil {
		log.Fatal(err)
	}
	return srv, nb
}

func ExampleNew() {
	srv := netboxtest.NewServer()
	defer srv.Close()
	// In production: netboxsdk.New("https://netbox.example.com", netboxsdk.WithToken(token)),
	// or netboxsdk.New("") with NETBOX_URL and NETBOX_TOKEN set. A token of the form
	// nbt_<key>.<secret> is sent as a v2 Bearer token.
	nb, err := netboxsdk.New(srv.URL,
		netboxsdk.WithToken(srv.TokenV2()),
		netboxsdk.WithTimeout(30*time.Second),
		netboxsdk.WithMaxConcurrency(8),
		netboxsdk.WithCache(time.Minute),
	)
	if err != nil {
		log.Fatal(err)
	}
	st, err := nb.Status(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("NetBox", st.NetBoxVersion, "cursor paging:", st.AtLeast(4, 6))
	// Output: NetBox 4.7.3 cursor paging: true
}

func ExampleCollection_List() {
	srv, nb := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	cl, _ := nb.Objects("/api/virtualization/cluster-types/").Create(ctx, netboxsdk.Object{"name": "Proxmox", "slug": "proxmox"})
	cluster, _ := nb.Objects("/api/virtualization/clusters/").Create(ctx, netboxsdk.Object{"name": "pve", "type": cl["id"]})
	var vms []netboxsdk.Object
	for i := range 2500 {
		vms = append(vms, netboxsdk.Object{"name": fmt.Sprintf("vm%04d", i), "cluster": cluster["id"]})
	}
	if _, err := nb.Objects("/api/virtualization/virtual-machines/").BulkCreate(ctx, vms); err != nil {
		log.Fatal(err)
	}
	srv.Reset()
	// Pages are fetched lazily (1000 per request by default) while the loop runs.
	n := 0
	f := netboxsdk.NewFilter().Related("cluster", 1).Fields("id", "name")
	for vm, err := range nb.Objects("/api/virtualization/virtual-machines/").List(ctx, f) {
		if err != nil {
			log.Fatal(err)
		}
		_ = vm["name"]
		n++
	}
	fmt.Println(n, "VMs in", srv.Total(), "requests")
	// Output: 2500 VMs in 3 requests
}

func ExampleCollection_GetBy() {
	srv, nb := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	tags := nb.Objects("/api/extras/tags/")
	tags.Create(ctx, netboxsdk.Object{"name": "Proxbox", "slug": "proxbox", "color": "ff5722"})
	tag, err := tags.GetBy(ctx, netboxsdk.NewFilter().Slug("proxbox"))
	fmt.Println(tag["name"], err)
	_, err = tags.GetBy(ctx, netboxsdk.NewFilter().Slug("missing"))
	fmt.Println(errors.Is(err, netboxsdk.ErrNotFound))
	// Output:
	// Proxbox <nil>
	// true
}

func ExampleCollection_Patch() {
	srv, nb := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	sites := nb.Objects("/api/dcim/sites/")
	s, _ := sites.Create(ctx, netboxsdk.Object{"name": "dc1", "slug": "dc1", "time_zone": "UTC", "description": "old"})
	// Absent keys are left alone, nil sets null.
	s, err := sites.Patch(ctx, int(s["id"].(float64)), netboxsdk.Object{"description": "new", "time_zone": nil})
	fmt.Println(s["description"], s["time_zone"], s["slug"], err)
	// Output: new <nil> dc1 <nil>
}

func ExampleAPIError() {
	srv, nb := exampleClient()
	defer srv.Close()
	_, err := nb.Objects("/api/dcim/sites/").Create(context.Background(), netboxsdk.Object{"name": "no slug"})
	var apiErr *netboxsdk.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Fields["slug"], errors.Is(err, netboxsdk.ErrValidation))
	}
	// Output: 400 [This field is required.] true
}

func ExampleFilter() {
	f := netboxsdk.NewFilter().
		Related("cluster", 3).
		Name("web1", "web2").
		IContains("description", "prod").
		CF("proxmox_vm_id", 101).
		Tag("proxbox").
		Eq("tenant_id", nil).
		Brief()
	fmt.Println(f.Encode())
	// Output: brief=true&cf_proxmox_vm_id=101&cluster_id=3&description__ic=prod&name=web1&name=web2&tag=proxbox&tenant_id=null
}

func ExampleCollection_BulkCreate() {
	srv, nb := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	tags := nb.Objects("/api/extras/tags/")
	// NetBox applies a bulk request all or nothing.
	_, err := tags.BulkCreate(ctx, []netboxsdk.Object{{"name": "a", "slug": "a"}, {"name": "b"}})
	var apiErr *netboxsdk.APIError
	errors.As(err, &apiErr)
	fmt.Println(apiErr.Items[1]["slug"], srv.Len("/api/extras/tags/"))
	created, _ := tags.BulkCreate(ctx, []netboxsdk.Object{{"name": "a", "slug": "a"}, {"name": "b", "slug": "b"}})
	ids := []int{int(created[0]["id"].(float64)), int(created[1]["id"].(float64))}
	fmt.Println(len(created), tags.BulkDelete(ctx, ids), srv.Len("/api/extras/tags/"))
	// Output:
	// [This field is required.] 0
	// 2 <nil> 0
}

func ExampleClient_Do() {
	srv, nb := exampleClient()
	defer srv.Close()
	var page netboxsdk.Page[netboxsdk.Object]
	resp, err := nb.Do(context.Background(), "GET", "/api/plugins/proxbox/settings/", nil, nil, &page)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, resp.Count, page.Results[0]["primary_ip_preference"])
	// Output: 200 1 ipv4
}
