// Package savedplanacc tests the provider through the real terraform CLI
// with saved plans (`terraform plan -out` and `terraform apply PLANFILE`),
// as the provider binary Terraform starts itself: the in-process provider
// of terraform-plugin-testing is not a child of terraform, so it cannot
// tell which run it serves (see internal/tfrun). It needs TF_ACC=1.
package savedplanacc
