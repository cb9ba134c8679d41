package netboxsdk

// GenFilterNames exposes the generated filter-name table to the external coverage test.
var GenFilterNames = genFilterNames
