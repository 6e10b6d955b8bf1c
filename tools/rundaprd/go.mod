// Module rundaprd is the daprd that the Multi-App Run file starts: it runs
// the installed daprd with the flags that Dapr CLI 1.12 cannot give it.
module shop/tools/rundaprd

go 1.26.4
