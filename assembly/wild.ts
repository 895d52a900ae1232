// placeholder: kernels of this concern are added here
export const wild_KERNELS_VERSION: i32 = 0;
