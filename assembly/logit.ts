// placeholder: kernels of this concern are added here
export const logit_KERNELS_VERSION: i32 = 0;
