# Import an image by cluster and image ID (the IDs are listed by the API's
# GET /v1/clusters/{cluster}/images; the simulator names an image after its
# bundle's sha256, so this is the example's bundle once uploaded).
terraform import appliance_software_image.v1_1 demo/img-ce6eb2166241
