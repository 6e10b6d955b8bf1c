// Module devsecrets writes the git-ignored secrets file of the developer's
// run (scripts/setup.sh).
module shop/tools/devsecrets

go 1.26.4
