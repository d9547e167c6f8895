# Import an image by cluster and image ID.
terraform import appliance_software_image.v6_5 prod-east/img-3f2a9c
