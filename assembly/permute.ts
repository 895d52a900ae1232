// placeholder: kernels of this concern are added here
export const permute_KERNELS_VERSION: i32 = 0;
