// A production Amazon EKS cluster that is secure by default and refuses bad configurations at `pulumi preview`.
package secureeks
