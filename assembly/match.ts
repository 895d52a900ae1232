// placeholder: kernels of this concern are added here
export const match_KERNELS_VERSION: i32 = 0;
